"""Entry module for Dramatiq worker processes: `python -m dramatiq app.worker_entry`.

Dramatiq's CLI imports this module in every worker process and takes the global broker, so
this is the one place where a broker is made on import. Settings come from SOHOA_* variables
(`sohoa worker` passes its own on, with its verbose flag).
"""

import dramatiq

from app.compose import Context, fixity_schedule
from app.config import Settings, one_thread_per_tesseract
from app.logs import configure_logging
from workers.actors import declare_actors
from workers.fixity import FixityTimer
from workers.runtime import configure_process, make_broker

one_thread_per_tesseract()  # start-up, before any Tesseract (app/config.py says why)
context = Context(Settings())
configure_logging(context.settings.verbose)
configure_process()
broker = make_broker(context.settings.broker)
dramatiq.set_broker(broker)
actors = declare_actors(broker, context.services)
# The scheduled fixity share: each process ticks, one per period wins it (workers/fixity.py).
FixityTimer(context.services, fixity_schedule(context.settings)).in_background()
