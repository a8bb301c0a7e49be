<?php
// includes/hooks/ycm.php: a WHMCS hook that copies a client's company name to their YCM
// user when the client's details change. The ycm() helper is the one of update_user.php
// (kept in a file of its own, here ycm_helper.php). `make docs-examples` checks its syntax
// with `php -l` (WHMCS itself is not run in CI).

require_once __DIR__ . '/ycm_helper.php';

// ANCHOR: hook
add_hook('ClientEdit', 1, function (array $vars) {
    $ycmUserId = (int) ($vars['customfields']['ycm_user_id'] ?? 0);
    if ($ycmUserId <= 0) {
        return; // not a YCM customer
    }
    try {
        ycm(['users', 'update', (string) $ycmUserId, '--company', $vars['companyname']]);
    } catch (RuntimeException $e) {
        // 2: bad input, 4: credentials refused (do not retry); 1 and 5 may pass later.
        logActivity('YCM update of user ' . $ycmUserId . ' failed: ' . $e->getMessage());
    }
});
// ANCHOR_END: hook
