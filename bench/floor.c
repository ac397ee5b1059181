/* The floor of the benchmark: the least CPU the same work can cost, written in C over libssl.
 *
 * For each line of stdin, "NAME ADDRESS...": one UDP DNS question (A) for NAME to the resolver, then for each
 * ADDRESS a TCP connect to port 443 and a verified TLS 1.3 handshake with SNI = NAME (chain against CAFILE,
 * host name checked), closed at once. One at a time, blocking: no event loop, no concurrency to pay for.
 * Prints "checks OK FAILED questions Q".
 *
 *   floor CAFILE RESOLVER_IPV4 < list
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static int dns_question(const char *resolver, const char *name, unsigned short id) {
    unsigned char q[512], r[1500];
    size_t n = 0;
    q[n++] = id >> 8; q[n++] = id & 0xff;
    q[n++] = 0x01; q[n++] = 0x00;             /* recursion desired */
    q[n++] = 0; q[n++] = 1;                   /* one question */
    memset(q + n, 0, 6); n += 6;
    const char *p = name;
    while (*p) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        q[n++] = (unsigned char)len;
        memcpy(q + n, p, len); n += len;
        p += len + (dot ? 1 : 0);
    }
    q[n++] = 0;
    q[n++] = 0; q[n++] = 1;                   /* A */
    q[n++] = 0; q[n++] = 1;                   /* IN */
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(53)};
    inet_pton(AF_INET, resolver, &to.sin_addr);
    struct timeval tv = {.tv_sec = 5};
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    int ok = connect(s, (struct sockaddr *)&to, sizeof to) == 0 && send(s, q, n, 0) == (ssize_t)n;
    ssize_t got = ok ? recv(s, r, sizeof r, 0) : -1;
    close(s);
    return got >= 12 && r[0] == q[0] && r[1] == q[1] && (r[3] & 0x0f) == 0;
}

static int handshake(SSL_CTX *ctx, const char *address, const char *name) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(443)};
    inet_pton(AF_INET, address, &to.sin_addr);
    int one = 1;
    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(s, (struct sockaddr *)&to, sizeof to) != 0) {
        close(s);
        return 0;
    }
    SSL *ssl = SSL_new(ctx);
    SSL_set_fd(ssl, s);
    SSL_set_tlsext_host_name(ssl, name);
    SSL_set1_host(ssl, name);
    int ok = SSL_connect(ssl) == 1 && SSL_get_verify_result(ssl) == X509_V_OK;
    SSL_free(ssl);
    close(s);
    return ok;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: floor CAFILE RESOLVER_IPV4 < list\n");
        return 2;
    }
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    if (SSL_CTX_load_verify_locations(ctx, argv[1], NULL) != 1) {
        ERR_print_errors_fp(stderr);
        return 2;
    }
    char line[4096];
    long checks = 0, ok = 0, questions = 0, answered = 0;
    unsigned short id = 1;
    while (fgets(line, sizeof line, stdin)) {
        char *save = NULL, *name = strtok_r(line, " \n", &save);
        if (!name) continue;
        questions++;
        answered += dns_question(argv[2], name, id++);
        for (char *a = strtok_r(NULL, " \n", &save); a; a = strtok_r(NULL, " \n", &save)) {
            checks++;
            ok += handshake(ctx, a, name);
        }
    }
    printf("checks %ld ok %ld failed %ld questions %ld answered %ld\n", checks, ok, checks - ok, questions, answered);
    SSL_CTX_free(ctx);
    return 0;
}
