"""Human review: links and secrets (``links``), what a browser sends (``forms``), requesting an
approval (``requests``), and showing and deciding it exactly once (``decisions``)."""
