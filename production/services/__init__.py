"""Use cases. They take a pool or connection and plain values; no HTTP or Kafka types."""
