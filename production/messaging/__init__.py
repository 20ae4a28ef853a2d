"""Kafka adapter: producer and consumer factories, topics, and the retrying consumer loop."""
