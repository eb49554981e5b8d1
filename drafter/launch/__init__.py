"""The process launcher, Drafter's composition root: ``drafter up`` (``up``), ``drafter
serve NAME`` (``serve``) and the table of the processes Drafter is made of
(``processes``). It is the only part of the ``drafter`` package that imports the edge and
the services; the kernel beside it (``rpc``, ``config``, ``model_table``, ``limits``,
``tasks``, ``timeutil``, ``runtime``) imports neither."""
