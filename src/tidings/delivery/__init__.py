"""Delivery: composing messages, the channels that carry them, and the links that come back."""
