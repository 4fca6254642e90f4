/**
 * Credentials in the URL (`http://user:pass@host/...`) go out as `Authorization: Basic` on both
 * transports, percent-decoded, and never in the request line or `Host`; a given Authorization
 * header (`--api-key`) wins, and only one is sent.
 */
import { assert, assertEquals } from "./assert.ts";
import { sendOne, TRANSPORT_KINDS, withStub } from "./helpers/transports.ts";
import { basicAuthOf } from "../src/transport/http1_request.ts";

const OK = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}";

function authorizations(head: string): string[] {
  return head.split("\r\n").filter((l) => /^authorization:/i.test(l)).map((l) =>
    l.slice(l.indexOf(":") + 1).trim()
  );
}

Deno.test("basic auth: the header value", () => {
  assertEquals(basicAuthOf(new URL("http://h/")), undefined);
  assertEquals(basicAuthOf(new URL("http://a:b@h/")), `Basic ${btoa("a:b")}`);
  // percent-decoded, UTF-8
  const bytes = new TextEncoder().encode("us@er:pä:ss");
  assertEquals(
    basicAuthOf(new URL("http://us%40er:p%C3%A4%3Ass@h/")),
    `Basic ${btoa(String.fromCharCode(...bytes))}`,
  );
  assertEquals(basicAuthOf(new URL("http://token@h/")), `Basic ${btoa("token:")}`);
});

for (const kind of TRANSPORT_KINDS) {
  Deno.test(`basic auth [${kind}]: sent from the URL, never in the request line or Host`, async () => {
    await withStub(kind, (r) => r.write(OK), async (url, t, server) => {
      const withCreds = url.replace("http://", "http://us%40er:p%3Ass@") + "/v1/x?q=1";
      const a = await sendOne(t, withCreds, { stream: false });
      const b = await sendOne(t, withCreds, {
        stream: false,
        headers: { "content-type": "application/json", Authorization: "Bearer k" },
      });
      assert(a.rec.success && b.rec.success, JSON.stringify([a.rec.failure, b.rec.failure]));
      const [ha, hb] = server.requests.map((r) => r.head);
      assertEquals(authorizations(ha), [`Basic ${btoa("us@er:p:ss")}`]);
      assertEquals(authorizations(hb), ["Bearer k"], "the given header wins, alone");
      for (const h of [ha, hb]) {
        assert(h.startsWith("POST /v1/x?q=1 HTTP/1.1\r\n"), h.split("\r\n")[0]);
        const host = h.split("\r\n").find((l) => /^host:/i.test(l))!;
        assertEquals(host.slice(5).trim(), url.slice("http://".length));
        assert(!h.includes("p%3Ass") && !h.includes("us%40er"), "no userinfo on the wire");
      }
    });
  });
}
