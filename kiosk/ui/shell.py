"""What a screen may ask of the shell that owns it: the services, the citizen's session, the shared view
state, and moving between screens. kiosk.app.KioskShell is the one shell; screens know it only as this."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from kiosk.flow import RatingSession
    from kiosk.services import Services
    from kiosk.ui.theme import UiState


class Shell(Protocol):
    """The screens' view of the shell."""

    @property
    def services(self) -> Services:
        """The device's services (ratings, catalog, printer, settings, sync)."""

    @property
    def session(self) -> RatingSession:
        """The citizen's rating session under way."""

    @property
    def ui(self) -> UiState:
        """The view state every screen shares: language and size unit."""

    @property
    def current(self) -> str:
        """The name of the screen shown now."""

    def screen(self, name: str) -> Any:
        """The screen called `name` (its class depends on the name), built now if it was not yet."""

    def go(self, name: str) -> None:
        """Show screen `name`."""

    def go_idle(self) -> None:
        """Back to the idle screen, the next citizen starting afresh."""

    def after_rating(self) -> None:
        """The rating is stored: on to the follow-ups or the thanks."""

    def set_language(self, lang: str) -> None:
        """Show the screens in `lang` from now on."""

    def exit_app(self) -> None:
        """Leave the app (staff mode only)."""
