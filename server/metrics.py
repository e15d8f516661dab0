"""Prometheus metrics, defined once per process (prometheus-client's default registry).

The domain records what happened (a reply ended, tokens were used, money moved); the transport
counts sockets, frames and errors; `GET /metrics` exposes them all.
"""
from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64, 128)

OPEN_SOCKETS = Gauge("chatwire_open_sockets", "WebSockets open on this instance")
EVENTS_SENT = Counter("chatwire_events_sent_total", "Frames queued to sockets (events and replies)")
GENERATIONS = Counter("chatwire_generations_total", "Replies that ended, by final status",
                      ["model", "status"])
STREAMING = Gauge("chatwire_generations_streaming", "Replies streaming on this instance now")
STREAMED_CHUNKS = Counter("chatwire_streamed_chunks_total",
                          "Text chunks received from providers as replies stream (live, before "
                          "the reply's tokens are counted at its end)", ["model"])
TOKENS = Counter("chatwire_tokens_total", "Tokens used by replies", ["model", "kind"])
COST = Counter("chatwire_cost_microcredits_total", "Micro-credits charged for replies", ["model"])
TTFT = Histogram("chatwire_provider_first_token_seconds", "Time from request to the first token",
                 ["provider"], buckets=LATENCY_BUCKETS)
PROVIDER_LATENCY = Histogram("chatwire_provider_stream_seconds",
                             "Time from request to the end of the stream", ["provider"],
                             buckets=LATENCY_BUCKETS)
ERRORS = Counter("chatwire_errors_total", "Errors answered to clients, by code", ["code", "via"])
LEDGER = Counter("chatwire_ledger_operations_total", "Ledger operations, by kind", ["kind"])
RATE_LIMITED = Counter("chatwire_rate_limited_total", "Requests refused by a rate limit", ["limit"])
BILLING = Counter("chatwire_billing_events_total", "Payment webhooks and reconciles, by provider "
                  "and outcome (credited, duplicate, flagged, reversed, ignored, ...)",
                  ["provider", "outcome"])
