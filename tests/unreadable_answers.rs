//! Answers a client cannot quote usefully, end to end against a loopback peer: a proxy's or
//! load balancer's HTML error page is summarised as its status and page title, and a body
//! compressed although ycm asked for no compression is reported as compressed, never
//! quoted as bytes.

use ycm::{Auth, Client, Code, Config, Secret, UserUpdate};
use ycm_mock::scripted::{response, ScriptedServer, Step};

/// nginx's own error pages, byte for byte.
const NGINX_502: &str = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.24.0</center>\r\n</body>\r\n</html>\r\n";
const NGINX_413: &str = "<html>\r\n<head><title>413 Request Entity Too Large</title></head>\r\n<body>\r\n<center><h1>413 Request Entity Too Large</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";

/// `{"requestId":"r","status":"Success","time":1}`, gzip-compressed.
const GZIP_SUCCESS: &[u8] = &[
    0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0xab, 0x56, 0x2a, 0x4a, 0x2d, 0x2c,
    0x4d, 0x2d, 0x2e, 0xf1, 0x4c, 0x51, 0xb2, 0x52, 0x2a, 0x52, 0xd2, 0x51, 0x2a, 0x2e, 0x49, 0x2c,
    0x29, 0x2d, 0x06, 0x72, 0x82, 0x4b, 0x93, 0x93, 0x53, 0x8b, 0x8b, 0x81, 0x42, 0x25, 0x99, 0xb9,
    0xa9, 0x4a, 0x56, 0x86, 0xb5, 0x00, 0xf5, 0x22, 0x23, 0xa8, 0x2d, 0x00, 0x00, 0x00,
];

fn client(server: &ScriptedServer) -> Client {
    let config = Config::new(&server.url(), Auth::AccessToken(Secret::new("tok"))).unwrap();
    Client::new(config.retries(0, Default::default(), Default::default())).unwrap()
}

#[test]
fn a_proxy_error_page_is_summarised_by_its_title() {
    for (status, page, expected) in [
        (502, NGINX_502, "HTTP 502: Bad Gateway"),
        (413, NGINX_413, "HTTP 413: Request Entity Too Large"),
    ] {
        let server = ScriptedServer::start(vec![Step::Send(response(
            status,
            &[("Content-Type", "text/html")],
            page.as_bytes(),
        ))])
        .unwrap();
        let error = client(&server)
            .update_user(13329, &UserUpdate::new().company("x"))
            .unwrap_err();
        assert_eq!(error.code(), Code::Http, "{error}");
        assert_eq!(error.info().http_status, status);
        assert_eq!(error.message(), expected);
    }
}

#[test]
fn an_unrequested_compressed_body_is_reported_as_compressed() {
    for (status, headers, code) in [
        (200, &[("Content-Encoding", "gzip")][..], Code::BadResponse),
        (200, &[][..], Code::BadResponse),
        (500, &[("Content-Encoding", "gzip")][..], Code::BadResponse),
        (401, &[("Content-Encoding", "gzip")][..], Code::Unauthorized),
    ] {
        let server =
            ScriptedServer::start(vec![Step::Send(response(status, headers, GZIP_SUCCESS))])
                .unwrap();
        let error = client(&server).get_user(13329).unwrap_err();
        let text = error.message();
        assert_eq!(error.code(), code, "{text}");
        assert!(text.contains("compressed with gzip"), "{text}");
        assert!(text.contains("not requested"), "{text}");
        assert!(!text.contains('\u{fffd}'), "bytes were quoted: {text}");
    }
    let brotli = ScriptedServer::start(vec![Step::Send(response(
        200,
        &[("Content-Encoding", "br")],
        b"\x0b\x02\x80\x7b\x7d\x03",
    ))])
    .unwrap();
    let error = client(&brotli).get_user(13329).unwrap_err();
    assert_eq!(error.code(), Code::BadResponse);
    assert!(error.message().contains("compressed with br"), "{error}");
}
