// Initiates the replica set rs0 once, then waits until it has a primary.
// Run by the mongo-init service of docker-compose.yml:
//   mongosh --quiet --host mongo1:27017 /init/mongo-init.js
// It is safe to run again: a replica set that is already initiated is left as it is (its
// configuration lives in the members' volumes).

const config = {
  _id: "rs0",
  members: [
    // mongo1 is preferred as primary; any member can take over when it is down.
    { _id: 0, host: "mongo1:27017", priority: 2 },
    { _id: 1, host: "mongo2:27017", priority: 1 },
    { _id: 2, host: "mongo3:27017", priority: 1 },
  ],
};

try {
  const status = rs.status();
  print(`replica set ${status.set} is already initiated`);
} catch (err) {
  if (err.codeName !== "NotYetInitialized") {
    throw err;
  }
  rs.initiate(config);
  print("replica set rs0 initiated");
}

// The brokers start once this script has ended successfully: wait for a primary (bounded).
const deadline = Date.now() + 60 * 1000;
for (;;) {
  let primary;
  try {
    primary = rs.status().members.find((member) => member.stateStr === "PRIMARY");
  } catch (err) {
    primary = undefined;
  }
  if (primary) {
    print(`primary: ${primary.name}`);
    break;
  }
  if (Date.now() > deadline) {
    print("rs0 has no primary after 60 s");
    quit(1);
  }
  sleep(500);
}
