"""Alembic revisions. The chain, oldest first (ids were given per piece of work, so their numbers
are not their order): 0001 → 0009_users_audit → 0011_ops → 0008_stuck → 0012_page_costs →
0014_roles → 0010_web_sessions → 0013_charts → 0011_scale.
"""

#: The newest revision: a database stamped with it is opened without loading Alembic (a fifth
#: of a command's start-up). A test checks it is the chain's last.
HEAD = "0011_scale"
