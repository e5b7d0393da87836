"""ctrproto: a fast, sans-IO client for the Docker Engine API."""
