"""The gRPC servicers, one per proto service, each thin: parse the request (``convert``),
make one domain call, build the response (``convert``). ``main.build_registrations``
builds and mounts all six the same way."""
