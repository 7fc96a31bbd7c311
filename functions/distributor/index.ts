import { makeHandler } from "./handler";
import { loadSettings } from "./settings";
import { createDistributor } from "./wiring";

// Cold start: settings are checked and clients built once; a bad setting fails here, naming it.
const { engine, recovery } = createDistributor(loadSettings());
export const handler = makeHandler(engine, {}, recovery);
