"""From syntax tree to checked model and graph."""
