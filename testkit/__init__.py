"""Test servers (PostgreSQL, Redis) and fuzz strategies, shared by tests/ and bench/."""
