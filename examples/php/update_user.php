<?php
// update_user.php USER_ID COMPANY: a PHP application (a WHMCS hook, a Laravel job) updating
// a YCM user through the ycm command line. The CLI brings the token cache, the shared rate
// budget and the retries; PHP only runs it and reads its JSON. The settings come from the
// environment (YCM_BASE_URL, YCM_CLIENT_ID, YCM_CLIENT_SECRET or YCM_ACCESS_TOKEN) or from a
// profile in ~/.config/ycm/config.toml. `make docs-examples` runs it against ycm-mock.

// ANCHOR: update
/**
 * Runs `ycm ARGS... --output json` and returns the decoded JSON; throws with ycm's own
 * error line (stderr) and exit code when it fails. The arguments are passed as an array,
 * so no shell ever parses them.
 */
function ycm(array $args): array
{
    $ycm = getenv('YCM_BIN') ?: 'ycm';
    $cmd = array_merge([$ycm], $args, ['--output', 'json']);
    $proc = proc_open($cmd, [1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes);
    if (!is_resource($proc)) {
        throw new RuntimeException("cannot run $ycm");
    }
    $out = stream_get_contents($pipes[1]);
    $err = stream_get_contents($pipes[2]);
    fclose($pipes[1]);
    fclose($pipes[2]);
    $status = proc_close($proc);
    if ($status !== 0) {
        // Exit codes: 2 bad input (nothing sent), 4 credentials refused, 5 rate or retry
        // budget exhausted; see `ycm help exit-codes`.
        throw new RuntimeException("ycm exited $status: " . trim($err), $status);
    }
    return json_decode($out, true, 512, JSON_THROW_ON_ERROR);
}

$userId = (int) $argv[1];
ycm(['users', 'update', (string) $userId, '--company', $argv[2]]);
$user = ycm(['users', 'get', (string) $userId]);
echo "user $userId now: company {$user['company']}\n";
// ANCHOR_END: update
