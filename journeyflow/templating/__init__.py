"""Message templates: the bounded Jinja2 sandbox, its filters and limits, and the
confined reading of template files. The compiler checks templates with it; the
runtime renders them with it."""
