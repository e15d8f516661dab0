"""Chatwire's wire protocol, sans I/O: frame parsing and validation, reply and event builders,
error codes. Nothing here touches a socket, a database or a provider."""
from .errors import ERROR_CODES, ChatwireError
from .frames import Request, decode, dumps, encode, event, parse_request, reply_error, reply_ok, request
from .schema import REQUESTS

__all__ = [
    "ERROR_CODES",
    "ChatwireError",
    "REQUESTS",
    "Request",
    "decode",
    "dumps",
    "encode",
    "event",
    "parse_request",
    "reply_error",
    "reply_ok",
    "request",
]
