"""Kivy screens of the kiosk: thin views over the services in kiosk/, one .kv file per screen."""
