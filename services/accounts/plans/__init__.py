"""Plans: THE plan table (``table`` and the built-in ``plans.toml``), which plan is in
force for a user at a given moment (``in_force``), and discount / upgrade codes that
change it for a while (``codes``)."""
