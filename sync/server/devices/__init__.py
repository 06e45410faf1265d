"""What the kiosks talk to: the device API, the signed-request check, the push, enrolment, health and the catalog."""
