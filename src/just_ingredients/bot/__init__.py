"""The Telegram front end (python-telegram-bot): a thin adapter over `service.py`.

`app.build_application` wires the handlers of `handlers.py`; `runtime.run_bot` runs them
by long polling or behind the webhook of `web.py`. Nothing here parses text or touches SQL.
"""
