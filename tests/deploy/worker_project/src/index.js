// The tests replace RELEASE to make each deploy a new version of the code.
const RELEASE = "1";

export default {
  async fetch() {
    return new Response(`release ${RELEASE}`);
  },
  async queue(batch) {
    batch.ackAll();
  },
};
