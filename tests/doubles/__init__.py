"""Local stand-ins for the outside systems b24kit talks to (Jira, ...), served over real sockets."""

from __future__ import annotations
