"""The dispatcher's parts, one job each; `tidings.runtime.dispatch.Dispatcher` runs them.

- `round`: what a round carries and counts (`Ready`, `Round`) and its timeline lines.
- `facts`: what the policies need to know about the claimed messages, read once per round.
- `decisions`: each claimed message allowed (and composed), deferred or dropped.
- `outcomes`: what the channels answered, written back (sent, retry, dead letter, bounce).
"""
