"""Who calls and what they may do: principals and roles (:mod:`.principals`), API keys
(:mod:`.key_store`, remembered briefly by :mod:`.keycache`, managed by
:mod:`.keys_command`), customer tokens (:mod:`.customer_tokens`), the rights matrix
(:mod:`.rights`) and per-caller rate limits (:mod:`.ratelimit`).

May import: vocabulary, infra, db, tickets
"""
