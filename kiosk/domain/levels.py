"""The five satisfaction levels and the SIPAS follow-up questions: the one place that defines them."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Level:
    """One of the five satisfaction levels, with its labels and face colour."""

    value: int
    label_vi: str
    label_en: str
    colour: str  # hex, green (5) to red (1)

    def label(self, lang: str) -> str:
        """The label in the given language, Vietnamese unless English is asked for."""
        return self.label_en if lang == "en" else self.label_vi


# Exactly the labels of the national survey; order is best first, as the faces appear on screen.
LEVELS: tuple[Level, ...] = (
    Level(5, "Rất hài lòng", "Very satisfied", "#2E7D32"),
    Level(4, "Hài lòng", "Satisfied", "#7CB342"),
    Level(3, "Bình thường", "Neutral", "#F9A825"),
    Level(2, "Không hài lòng", "Dissatisfied", "#EF6C00"),
    Level(1, "Rất không hài lòng", "Very dissatisfied", "#C62828"),
)

_BY_VALUE = {level.value: level for level in LEVELS}


def level(value: int) -> Level:
    """The level for a value 1–5; anything else is a programming error."""
    try:
        return _BY_VALUE[value]
    except KeyError:
        raise ValueError(f"satisfaction level must be 1–5, got {value!r}") from None


@dataclass(frozen=True)
class Question:
    """A follow-up question: one SIPAS element rated 1–5, or the yes/no harassment question."""

    key: str
    kind: str  # "scale" (1–5) or "yesno"
    title_vi: str
    title_en: str
    text_vi: str
    text_en: str

    def title(self, lang: str) -> str:
        """The short title in the given language."""
        return self.title_en if lang == "en" else self.title_vi

    def text(self, lang: str) -> str:
        """The question in plain words in the given language."""
        return self.text_en if lang == "en" else self.text_vi


# Worded from the SIPAS survey items per element, in words an elderly citizen understands at once.
QUESTIONS: tuple[Question, ...] = (
    Question(
        "access", "scale",
        "Tiếp cận dịch vụ", "Access to the service",
        "Thông tin, biển chỉ dẫn, chỗ ngồi chờ và trang thiết bị có thuận tiện không?",
        "Were information, signs, the waiting area and equipment convenient?",
    ),
    Question(
        "procedure", "scale",
        "Thủ tục hành chính", "The procedure",
        "Thủ tục có được niêm yết rõ ràng; giấy tờ, phí và thời hạn có đúng quy định không?",
        "Was the procedure clearly posted, with documents, fees and time limit as the rules say?",
    ),
    Question(
        "officer", "scale",
        "Công chức tiếp nhận", "The officer",
        "Công chức có lịch sự, hướng dẫn đầy đủ, dễ hiểu và làm đúng quy định không?",
        "Was the officer polite, with full, clear guidance, following the rules?",
    ),
    Question(
        "result", "scale",
        "Kết quả giải quyết", "The result",
        "Ông/Bà có nhận kết quả đúng hẹn, đầy đủ và chính xác không?",
        "Did you get the result on the promised date, complete and correct?",
    ),
    Question(
        "feedback", "scale",
        "Tiếp nhận góp ý, phản ánh", "Handling of feedback",
        "Việc góp ý, phản ánh có dễ dàng và được trả lời kịp thời không?",
        "Is it easy to give feedback, and is it answered in time?",
    ),
    Question(
        "harassment", "yesno",
        "Phiền hà, sách nhiễu", "Harassment",
        "Ông/Bà có bị gây phiền hà, sách nhiễu hoặc phải trả chi phí ngoài quy định không?",
        "Were you harassed or asked to pay anything not set by the rules?",
    ),
)

SCALE_KEYS = tuple(q.key for q in QUESTIONS if q.kind == "scale")
YESNO_KEYS = tuple(q.key for q in QUESTIONS if q.kind == "yesno")
QUESTION_KEYS = tuple(q.key for q in QUESTIONS)
HARASSMENT_KEY = "harassment"
COMMENT_KEY = "comment"
# The citizen asked to be contacted about their comment (value 1); recorded only with a comment, never a step.
CALLBACK_KEY = "callback"
PROCEDURE_KEY = "procedure_code"  # the procedure the citizen came for, chosen after the rating
COMMENT_MAX_CHARS = 1000
# The national database's procedure codes: 1.001193, 2.000908, 1.012753.H19 (a local suffix after the second dot).
# ASCII digits only ([0-9], not \d, which takes any script's digits).
PROCEDURE_CODE_PATTERN = r"[0-9]{1,2}\.[0-9]{6}(?:\.[A-Z0-9]{1,12})?"
PROCEDURE_CODE = re.compile(PROCEDURE_CODE_PATTERN)
LANGUAGES = ("vi", "en")

# Every answer a rating can have, and the one domain of each (a value, or a text, never both):
#   a scale question (SCALE_KEYS)   value 1–5
#   a yes/no question (YESNO_KEYS)  value 1 (yes) or 0 (no)
#   COMMENT_KEY                     text of 1 to COMMENT_MAX_CHARS characters, not only spaces
#   CALLBACK_KEY                    value 1 (given only after a comment to the same rating)
#   PROCEDURE_KEY                   text, a procedure code in the national format (PROCEDURE_CODE)
_VALUE_DOMAINS: dict[str, tuple[int, ...]] = {
    **{key: (1, 2, 3, 4, 5) for key in SCALE_KEYS}, **{key: (0, 1) for key in YESNO_KEYS}, CALLBACK_KEY: (1,)}
ANSWER_KEYS = (*QUESTION_KEYS, COMMENT_KEY, CALLBACK_KEY, PROCEDURE_KEY)


def answer_problem(question: object, value: object, text: object) -> tuple[str, str] | None:
    """Why an answer is outside its question's domain, in Vietnamese and English; None when it fits."""
    if not isinstance(question, str) or question not in ANSWER_KEYS:
        return f"không có câu hỏi {question!r}", f"there is no question {question!r}"
    allowed = _VALUE_DOMAINS.get(question)
    if allowed is not None:
        # Only a real int: True would pass as 1, and 5.0 would be signed as 5.0.
        if isinstance(value, bool) or not isinstance(value, int) or value not in allowed or text is not None:
            shown = ", ".join(str(v) for v in allowed)
            return (f"câu trả lời cho «{question}» phải là một trong {shown}, nhận được {value!r}",
                    f"the answer to '{question}' must be one of {shown}, got {value!r}")
        return None
    if value is not None or not isinstance(text, str):
        return (f"câu trả lời cho «{question}» phải là chữ, không phải số",
                f"the answer to '{question}' must be a text, not a value")
    if question == COMMENT_KEY and not (text.strip() and len(text) <= COMMENT_MAX_CHARS):
        return (f"góp ý phải có từ 1 đến {COMMENT_MAX_CHARS} ký tự",
                f"a comment must have 1 to {COMMENT_MAX_CHARS} characters")
    if "\x00" in text:   # PostgreSQL cannot store it: refused here, not as a server fault after the checks passed
        return (f"câu trả lời cho «{question}» có ký tự NUL (\\x00)",
                f"the answer to '{question}' holds a NUL (\\x00) character")
    if question == PROCEDURE_KEY and not PROCEDURE_CODE.fullmatch(text):
        return f"mã thủ tục không đúng dạng quốc gia: {text[:40]!r}", f"not a national procedure code: {text[:40]!r}"
    return None


def rating_problem(value: object, language: object, procedure_code: object) -> tuple[str, str] | None:
    """Why a rating is outside its domain (level 1–5, language vi/en, a national procedure code or none)."""
    if isinstance(value, bool) or not isinstance(value, int) or value not in range(1, 6):
        return f"mức đánh giá phải từ 1 đến 5, nhận được {value!r}", f"the level must be 1–5, got {value!r}"
    if language not in LANGUAGES:
        return (f"ngôn ngữ phải là {' hoặc '.join(LANGUAGES)}, nhận được {language!r}",
                f"the language must be {' or '.join(LANGUAGES)}, got {language!r}")
    if procedure_code is not None and not (isinstance(procedure_code, str)
                                           and PROCEDURE_CODE.fullmatch(procedure_code)):
        return (f"mã thủ tục không đúng dạng quốc gia: {str(procedure_code)[:40]!r}",
                f"not a national procedure code: {str(procedure_code)[:40]!r}")
    return None


@dataclass(frozen=True)
class Channel:
    """A way a citizen's rating reaches the results: the kiosk, the web form, or a paper questionnaire."""

    key: str
    label_vi: str
    label_en: str

    def label(self, lang: str) -> str:
        """The channel's name in the given language."""
        return self.label_en if lang == "en" else self.label_vi


# The three channels the plans measure through (DESIGN: one result from all three); the kiosk first.
CHANNELS: tuple[Channel, ...] = (
    Channel("kiosk", "Máy đánh giá tại quầy", "Kiosk at the counter"),
    Channel("web", "Phiếu điện tử", "Web form"),
    Channel("paper", "Phiếu giấy", "Paper form"),
)
CHANNEL_KEYS = tuple(channel.key for channel in CHANNELS)
CHANNELS_BY_KEY = {channel.key: channel for channel in CHANNELS}
