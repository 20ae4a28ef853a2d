"""C.A.R.E.: the autonomy gate, the executor and the audit trail."""
