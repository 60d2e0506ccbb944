"""The clerk's desk: the web app (routes, templates, static files) and its JSON API."""
