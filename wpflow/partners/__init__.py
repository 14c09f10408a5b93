"""The partners' pages: each partner's secret link (`links`), what its page shows (`status`),
the web app that shows it and takes uploads into the watched folder (`app`, with its rate limit
in `limits`), and the server `wpflow serve` runs it in (`server`).

An upload goes through `wpflow.inbox.deliver` into `<inbox>/<partner>/<milestone>/`, so the
watcher, the gate, the archive and the receipt are those of a dropped file. Above
`wpflow.inbox` and `wpflow.schedule`; below `wpflow.cli` only.
"""
