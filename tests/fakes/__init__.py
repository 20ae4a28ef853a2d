"""Local fakes of the third-party APIs the product calls, served on real loopback ports."""
