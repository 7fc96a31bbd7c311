import { makeHandler } from "./handler";
import { loadSettings } from "./settings";
import { createEngine } from "./wiring";

// Cold start: settings are checked and clients built once; a bad setting fails here, naming it.
export const handler = makeHandler(createEngine(loadSettings()));
