"""The C.A.R.E. rules, pure: the relationship states and what moves a customer between them
(state_engine), which proposed actions may run with no human (policy), and what an admin may
set for a tenant's autonomy (admin_settings). The code that reads
the facts, decides with them and writes the outcome lives in production/care/."""
