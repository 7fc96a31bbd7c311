// The `logrelay` process: bin/logrelay.js runs this through tsx; the in-cluster distributor image runs its bundle.
import { main } from "./logrelay";

main();
