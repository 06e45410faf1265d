"""The IT side of the server's pages: accounts, sessions and sign-in, and the fleet page."""
