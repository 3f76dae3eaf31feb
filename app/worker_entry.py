"""Entry module for Dramatiq worker processes: `python -m dramatiq app.worker_entry`.

Dramatiq's CLI imports this module in every worker process and takes the global broker, so
this is the one place where a broker is made on import. Settings come from SOHOA_* variables.
"""

import dramatiq

from app.compose import build_services
from app.config import Settings
from app.logs import configure_logging
from workers.actors import declare_actors
from workers.runtime import configure_process, make_broker

settings = Settings()
configure_logging(settings.verbose)
configure_process()
broker = make_broker(settings.broker)
dramatiq.set_broker(broker)
actors = declare_actors(broker, build_services(settings))
