// The `logrelay` process: bin/logrelay.js runs this through tsx; the processor image runs its bundle.
import { main } from "./logrelay";

main();
