"""The five satisfaction levels and the SIPAS follow-up questions: the one place that defines them."""

from __future__ import annotations

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
QUESTION_KEYS = tuple(q.key for q in QUESTIONS)
COMMENT_KEY = "comment"
# The citizen asked to be contacted about their comment (value 1); recorded only with a comment, never a step.
CALLBACK_KEY = "callback"
PROCEDURE_KEY = "procedure_code"  # the procedure the citizen came for, chosen after the rating
COMMENT_MAX_CHARS = 1000
