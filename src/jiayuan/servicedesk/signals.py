"""What other apps may react to without the service desk knowing them."""

from django.dispatch import Signal

# Sent after the commit that left a repair waiting for a technician (new, accepted or
# returned to the pool), with `request_id`, `estate_id` and `category`; the dispatch app
# listens.
request_waiting = Signal()
