"""Every channel but the kiosk: the web form and paper questionnaires, stored as the server's own signed chains."""
