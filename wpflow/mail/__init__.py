"""E-mail: composing messages from templates/email/, the transports (outbox folder, SMTP),
idempotency keys and the one send-once loop."""
