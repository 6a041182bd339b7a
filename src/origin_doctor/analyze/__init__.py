"""Pure judges: observations (+ profile, now) -> findings. No sockets, no ssl, no clock."""
