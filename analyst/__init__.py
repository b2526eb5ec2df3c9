"""What the Analyst's site is: the report model, its text, URL and section rules, and the K2 page objects."""
