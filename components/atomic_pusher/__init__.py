"""Pusher that publishes only blessed models, versioned and atomically."""
