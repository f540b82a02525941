"""A live map of the city: subscribes to the broker and shows buses and parking in a page.

Run it with `python -m examples.subscriber --help` from the repository root.
"""
