"""One citizen's pass through the rating screens: the logic behind the taps, free of Kivy."""

from __future__ import annotations

from kiosk.domain.levels import COMMENT_KEY, PROCEDURE_KEY, QUESTIONS
from kiosk.ratings import Receipt
from kiosk.services import Services


class RatingSession:
    """What one citizen has told the kiosk so far; every answer is stored the moment it is given."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.language = services.default_language()
        self.procedure_code: str | None = None
        self.receipt: Receipt | None = None
        self.answers: dict[str, int | str] = {}

    def reset(self) -> None:
        """Forget the citizen who just left; the language goes back to the default."""
        self.language = self.services.default_language()
        self.procedure_code = None
        self.receipt = None
        self.answers = {}

    def rate(self, value: int, *, is_test: bool = False) -> Receipt:
        """Store the overall rating durably; only then may the next screen be shown."""
        officer = self.services.officer_on_duty()
        self.receipt = self.services.ratings.record_rating(
            value, counter_id=self.services.settings.counter.id,
            officer_id=officer.id if officer else None, language=self.language,
            procedure_code=self.procedure_code, is_test=is_test)
        self.answers = {}
        return self.receipt

    def _rating_uuid(self) -> str:
        if self.receipt is None:
            raise RuntimeError("a follow-up answer came before the rating")
        return self.receipt.uuid

    def answer(self, question: str, value: int) -> None:
        """Store one follow-up answer; answering the same question again is ignored, not overwritten."""
        if question in self.answers:
            return
        self.services.ratings.record_answer(self._rating_uuid(), question, value)
        self.answers[question] = value

    def choose_procedure(self, code: str) -> None:
        """Store the procedure the citizen came for; a second choice is ignored, not overwritten."""
        if PROCEDURE_KEY in self.answers:
            return
        self.services.ratings.record_procedure(self._rating_uuid(), code)
        self.answers[PROCEDURE_KEY] = code

    def comment(self, text: str, *, callback: bool = False) -> bool:
        """Store the comment if there is one (and the wish to be contacted); True when something was stored."""
        if COMMENT_KEY in self.answers or not text.strip():
            return False
        rating = self._rating_uuid()
        self.services.ratings.record_comment(rating, text)
        self.answers[COMMENT_KEY] = text.strip()
        # The contact is in the comment: without a comment the wish to be called back means nothing.
        if callback:
            self.services.ratings.record_callback(rating)
        return True

    @property
    def followups_enabled(self) -> bool:
        """Whether the follow-up questions are asked after the rating."""
        return self.services.settings.ui.followups

    def followup_steps(self) -> list[str]:
        """The follow-up steps in order: the procedure (if the counter lists some), SIPAS, harassment, comment."""
        first = [PROCEDURE_KEY] if self.services.settings.counter.procedures else []
        return [*first, *(q.key for q in QUESTIONS), COMMENT_KEY]
