"""Reports (domain rules section 9): the tenant summary by day, week or month, sales by channel,
distributors' monthly statements (对账单) and months. No tables of its own: it reads the other apps
through their selectors (reports.selectors)."""
