#!/usr/bin/env bash
# Bring up a real WordPress on http://127.0.0.1:${WP_PORT:-8080}/ from Debian
# packages (wordpress, mariadb-server, apache2, mod_php), with the marketing-mcp
# companion plugin installed as a must-use plugin, and write credentials for an
# administrator application password as JSON:
#
#   {"site_url": "http://127.0.0.1:8080", "username": "...", "application_password": "..."}
#
# Usage: scripts/wordpress-up.sh [CREDENTIALS_JSON]
#   CREDENTIALS_JSON (relative to the current directory) defaults to
#   ${WP_CREDENTIALS:-build/wordpress.json}, relative to the repository root.
#
# Environment:
#   WP_PORT         port Apache serves WordPress on (default 8080, bound to 127.0.0.1)
#   WP_CREDENTIALS  where to write the credentials JSON (see above)
#   WP_ADMIN_USER   administrator login (default mcp-admin)
#   WP_DB_NAME      MariaDB database (default marketing_mcp_wp)
#   WP_DB_USER      MariaDB user (default marketing_mcp_wp)
#
# Idempotent: on a machine where the site is already up it only re-checks the
# configuration, reuses the credentials file when it still authenticates (else
# creates a fresh application password), and runs the REST smoke test.
# Needs root (re-executes itself through sudo when available). Debian/Ubuntu only.
set -euo pipefail

SCRIPT_PATH=$(readlink -f "${BASH_SOURCE[0]}")
REPO_ROOT=$(cd "$(dirname "$SCRIPT_PATH")/.." && pwd)

WP_PORT=${WP_PORT:-8080}
WP_ADMIN_USER=${WP_ADMIN_USER:-mcp-admin}
WP_DB_NAME=${WP_DB_NAME:-marketing_mcp_wp}
WP_DB_USER=${WP_DB_USER:-marketing_mcp_wp}

WP_HOST=127.0.0.1
SITE_URL="http://${WP_HOST}:${WP_PORT}"
WP_ROOT=/usr/share/wordpress
WP_CONTENT_DIR=/var/lib/wordpress/wp-content
WP_CONFIG="/etc/wordpress/config-${WP_HOST}.php"
APACHE_SITE=marketing-mcp-wordpress
APACHE_SITE_CONF="/etc/apache2/sites-available/${APACHE_SITE}.conf"
PLUGIN_SRC="${REPO_ROOT}/suite/data/marketing-mcp-companion.php"  # shipped in the wheel; wordpress/ links to it
PLUGIN_DST="${WP_CONTENT_DIR}/mu-plugins/marketing-mcp-companion.php"
PACKAGES=(
    wordpress wordpress-theme-twentytwentythree
    mariadb-server apache2 libapache2-mod-php
    php php-curl php-xml php-mbstring php-mysql
    curl ca-certificates
)

START_TIME=$SECONDS
log() { printf '[wordpress-up %3ds] %s\n' "$((SECONDS - START_TIME))" "$*" >&2; }
die() { printf '[wordpress-up] ERROR: %s\n' "$*" >&2; exit 1; }

# --- arguments, privileges -----------------------------------------------------

if [[ $# -ge 1 && -n "$1" ]]; then
    CREDENTIALS=$1
    [[ "$CREDENTIALS" = /* ]] || CREDENTIALS="$PWD/$CREDENTIALS"
else
    CREDENTIALS=${WP_CREDENTIALS:-build/wordpress.json}
    [[ "$CREDENTIALS" = /* ]] || CREDENTIALS="$REPO_ROOT/$CREDENTIALS"
fi

[[ "$WP_PORT" =~ ^[0-9]+$ ]] && ((WP_PORT > 0 && WP_PORT < 65536)) || die "WP_PORT must be a port number, got '$WP_PORT'"
[[ "$WP_PORT" != 8765 ]] || die "port 8765 is reserved for the marketing-mcp sandbox; pick another WP_PORT"
[[ "$WP_ADMIN_USER" =~ ^[A-Za-z0-9._@-]+$ ]] || die "WP_ADMIN_USER may only contain letters, digits and . _ @ -"
[[ "$WP_DB_NAME" =~ ^[A-Za-z0-9_]+$ && "$WP_DB_USER" =~ ^[A-Za-z0-9_]+$ ]] || die "WP_DB_NAME and WP_DB_USER may only contain letters, digits and _"
[[ -f "$PLUGIN_SRC" ]] || die "companion plugin not found at $PLUGIN_SRC"

if [[ $EUID -ne 0 ]]; then
    command -v sudo >/dev/null 2>&1 || die "must run as root (or with sudo available)"
    log "not root: re-running through sudo"
    exec sudo env WP_PORT="$WP_PORT" WP_ADMIN_USER="$WP_ADMIN_USER" WP_DB_NAME="$WP_DB_NAME" \
        WP_DB_USER="$WP_DB_USER" WP_CREDENTIALS_OWNER="$(id -u):$(id -g)" \
        bash "$SCRIPT_PATH" "$CREDENTIALS"
fi
CREDENTIALS_OWNER=${WP_CREDENTIALS_OWNER:-}
if [[ -z "$CREDENTIALS_OWNER" && -n "${SUDO_UID:-}" && -n "${SUDO_GID:-}" ]]; then
    CREDENTIALS_OWNER="${SUDO_UID}:${SUDO_GID}"
fi

# --- 1. packages ---------------------------------------------------------------

missing=()
for pkg in "${PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
    [[ "$status" == installed ]] || missing+=("$pkg")
done
if ((${#missing[@]})); then
    command -v apt-get >/dev/null 2>&1 || die "missing packages (${missing[*]}) and no apt-get to install them"
    log "installing packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt_log=$(mktemp /tmp/wordpress-up-apt.XXXXXX.log)
    if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$apt_log" 2>&1; then
        tail -n 30 "$apt_log" >&2
        die "apt-get install ${missing[*]} failed (full log: $apt_log)"
    fi
    rm -f "$apt_log"
    log "packages installed"
else
    log "packages already installed"
fi

# --- 2. MariaDB ----------------------------------------------------------------

if ! mysqladmin --silent ping >/dev/null 2>&1; then
    log "starting mariadb"
    service mariadb start >&2 || die "could not start mariadb (service mariadb start)"
fi
for _ in $(seq 1 60); do
    mysqladmin --silent ping >/dev/null 2>&1 && break
    sleep 0.5
done
mysqladmin --silent ping >/dev/null 2>&1 || die "mariadb is not answering (mysqladmin ping)"

# --- 3. wp-config for 127.0.0.1 --------------------------------------------------
# Debian's /usr/share/wordpress/wp-config.php includes /etc/wordpress/config-<host>.php.
# Secrets are kept from an existing file so re-runs do not change anything.

mkdir -p /etc/wordpress
config_out=$(php -d display_errors=stderr -- "$WP_CONFIG" "$SITE_URL" "$WP_DB_NAME" "$WP_DB_USER" <<'PHP'
<?php
[, $path, $site_url, $db_name, $db_user] = $argv;
$marker = 'Managed by marketing-mcp scripts/wordpress-up.sh';
$salts  = array( 'AUTH_KEY', 'SECURE_AUTH_KEY', 'LOGGED_IN_KEY', 'NONCE_KEY',
                 'AUTH_SALT', 'SECURE_AUTH_SALT', 'LOGGED_IN_SALT', 'NONCE_SALT' );
$old = is_file( $path ) ? file_get_contents( $path ) : '';
$ours = str_contains( $old, $marker );
if ( $ours ) {
	include $path; // Only define() calls: safe to evaluate in this throwaway process.
}
$secret = static fn ( $name ) => ( $ours && defined( $name ) && '' !== constant( $name ) ) ? constant( $name ) : bin2hex( random_bytes( 24 ) );
$db_password = $secret( 'DB_PASSWORD' );

$defines = array(
	'DB_NAME'                    => $db_name,
	'DB_USER'                    => $db_user,
	'DB_PASSWORD'                => $db_password,
	'DB_HOST'                    => 'localhost',
	'DB_CHARSET'                 => 'utf8mb4',
	'WP_HOME'                    => $site_url,
	'WP_SITEURL'                 => $site_url,
	// Application passwords are refused over plain http unless the environment is "local".
	'WP_ENVIRONMENT_TYPE'        => 'local',
	// Loopback-only test site: no update checks or other outbound HTTP.
	'WP_HTTP_BLOCK_EXTERNAL'     => true,
	'AUTOMATIC_UPDATER_DISABLED' => true,
	'WP_DEBUG'                   => false,
);
foreach ( $salts as $name ) {
	$defines[ $name ] = $secret( $name );
}
$php = "<?php\n/*\n * WordPress configuration for {$site_url}/\n * {$marker}; re-running it rewrites this file.\n */\n";
foreach ( $defines as $name => $value ) {
	$php .= 'define( ' . var_export( $name, true ) . ', ' . var_export( $value, true ) . " );\n";
}
$php .= "\$table_prefix = 'wp_';\n";

$state = 'unchanged';
if ( $php !== $old ) {
	if ( '' !== $old && ! $ours ) {
		copy( $path, $path . '.orig' );
		file_put_contents( 'php://stderr', "existing {$path} saved as {$path}.orig\n" );
	}
	file_put_contents( $path, $php );
	$state = 'written';
}
echo $state, ' ', $db_password, "\n";
PHP
) || die "could not write $WP_CONFIG"
read -r config_state db_password <<<"$config_out"
chown root:www-data "$WP_CONFIG"
chmod 0640 "$WP_CONFIG"
log "wordpress config $WP_CONFIG: $config_state"

mysql --protocol=socket -uroot <<SQL || die "could not create database/user in mariadb (run as root: mysql -uroot)"
CREATE DATABASE IF NOT EXISTS \`${WP_DB_NAME}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS '${WP_DB_USER}'@'localhost' IDENTIFIED BY '${db_password}';
ALTER USER '${WP_DB_USER}'@'localhost' IDENTIFIED BY '${db_password}';
GRANT ALL PRIVILEGES ON \`${WP_DB_NAME}\`.* TO '${WP_DB_USER}'@'localhost';
FLUSH PRIVILEGES;
SQL
log "database ${WP_DB_NAME} ready"

# --- 4. companion must-use plugin -------------------------------------------------

install -d -m 0755 "${WP_CONTENT_DIR}/mu-plugins"
if ! cmp -s "$PLUGIN_SRC" "$PLUGIN_DST"; then
    install -m 0644 "$PLUGIN_SRC" "$PLUGIN_DST"
    log "installed companion plugin at $PLUGIN_DST"
fi
php -l "$PLUGIN_DST" >/dev/null || die "companion plugin has PHP syntax errors: $PLUGIN_DST"

# --- 5. Apache -------------------------------------------------------------------

apache_changed=0
site_conf=$(cat <<APACHE
# ${SITE_URL}/ : WordPress for marketing-mcp tests.
# Managed by marketing-mcp scripts/wordpress-up.sh; re-running it rewrites this file.
Listen ${WP_HOST}:${WP_PORT}
ServerName ${WP_HOST}
<VirtualHost ${WP_HOST}:${WP_PORT}>
    ServerName ${WP_HOST}
    DocumentRoot ${WP_ROOT}
    Alias /wp-content ${WP_CONTENT_DIR}
    <Directory ${WP_ROOT}>
        Options FollowSymLinks
        AllowOverride None
        Require all granted
        DirectoryIndex index.php
        # Pretty permalinks and /wp-json/ without mod_rewrite.
        FallbackResource /index.php
    </Directory>
    <Directory ${WP_CONTENT_DIR}>
        Options FollowSymLinks
        AllowOverride None
        Require all granted
    </Directory>
    ErrorLog \${APACHE_LOG_DIR}/${APACHE_SITE}-error.log
    CustomLog \${APACHE_LOG_DIR}/${APACHE_SITE}-access.log combined
</VirtualHost>
APACHE
)
if [[ ! -f "$APACHE_SITE_CONF" ]] || [[ "$(cat "$APACHE_SITE_CONF")" != "$site_conf" ]]; then
    printf '%s\n' "$site_conf" >"$APACHE_SITE_CONF"
    apache_changed=1
fi
if [[ ! -e "/etc/apache2/sites-enabled/${APACHE_SITE}.conf" ]]; then
    a2ensite -q "$APACHE_SITE" >&2
    apache_changed=1
fi
# Keep port 80 free: drop Debian's default site and, when nothing else uses it, its Listen.
if [[ -e /etc/apache2/sites-enabled/000-default.conf ]]; then
    a2dissite -q 000-default >&2
    apache_changed=1
fi
other_sites=$(find /etc/apache2/sites-enabled -mindepth 1 ! -name "${APACHE_SITE}.conf" | wc -l)
if ((other_sites == 0)) && grep -qE '^[[:space:]]*Listen[[:space:]]+80[[:space:]]*$' /etc/apache2/ports.conf; then
    sed -i -E 's/^([[:space:]]*)Listen[[:space:]]+80[[:space:]]*$/\1# Listen 80  (disabled by marketing-mcp scripts\/wordpress-up.sh)/' /etc/apache2/ports.conf
    apache_changed=1
fi
if ! compgen -G '/etc/apache2/mods-enabled/php*.load' >/dev/null; then
    php_mod=$(find /etc/apache2/mods-available -name 'php*.load' -printf '%f\n' | sort | tail -n1)
    [[ -n "$php_mod" ]] || die "no PHP module for Apache found (install libapache2-mod-php)"
    a2dismod -q mpm_event >&2 || true
    a2enmod -q mpm_prefork "${php_mod%.load}" >&2
    apache_changed=1
fi
apache2ctl configtest >/dev/null 2>&1 || { apache2ctl configtest >&2 || true; die "apache configuration test failed"; }

if service apache2 status >/dev/null 2>&1; then
    if ((apache_changed)); then
        log "reloading apache2"
        service apache2 reload >&2 || die "could not reload apache2"
    fi
else
    log "starting apache2"
    service apache2 start >&2 || die "could not start apache2 (service apache2 start); is port ${WP_PORT} free?"
fi
for _ in $(seq 1 40); do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "${SITE_URL}/wp-includes/images/blank.gif" || true)
    [[ "$code" == 200 ]] && break
    sleep 0.25
done
[[ "$code" == 200 ]] || die "apache is not serving ${SITE_URL}/ (last HTTP status: ${code:-none}); see /var/log/apache2/${APACHE_SITE}-error.log"
log "apache2 serving ${SITE_URL}/"

# --- 6. credentials: reuse when they still work ----------------------------------------

json_field() { # json_field FILE KEY -> prints the string value, empty when missing
    php -r '$d = json_decode((string) @file_get_contents($argv[1]), true);
            echo is_array($d) && isset($d[$argv[2]]) && is_string($d[$argv[2]]) ? $d[$argv[2]] : "";' "$1" "$2"
}

app_password=""
if [[ -s "$CREDENTIALS" ]]; then
    old_url=$(json_field "$CREDENTIALS" site_url)
    old_user=$(json_field "$CREDENTIALS" username)
    old_pass=$(json_field "$CREDENTIALS" application_password)
    if [[ "$old_url" == "$SITE_URL" && "$old_user" == "$WP_ADMIN_USER" && -n "$old_pass" ]]; then
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 20 -u "${old_user}:${old_pass}" \
            "${SITE_URL}/wp-json/wp/v2/users/me?context=edit" || true)
        if [[ "$code" == 200 ]]; then
            app_password=$old_pass
            log "existing credentials in $CREDENTIALS still work"
        else
            log "existing credentials in $CREDENTIALS do not authenticate (HTTP ${code:-none}); creating new ones"
        fi
    fi
fi

# --- 7. install WordPress, permalinks, admin user, application password --------------
# There is no wp-cli package in Debian: drive the installer from PHP directly. Runs as
# www-data so WordPress cannot rewrite root-owned files (e.g. /etc/wordpress/htaccess).

need_password=0
[[ -n "$app_password" ]] || need_password=1
app_name="marketing-mcp $(date -u +%Y-%m-%dT%H:%M:%SZ) $RANDOM"
setup_out=$(cd / && runuser -u www-data -- php -d display_errors=stderr -d error_reporting=E_ALL\&~E_DEPRECATED \
    -- "$SITE_URL" "$WP_ADMIN_USER" "$need_password" "$app_name" <<'PHP'
<?php
[, $site_url, $admin_user, $need_password, $app_name] = $argv;
$url = parse_url( $site_url );
$_SERVER['HTTP_HOST']      = $url['host'] . ':' . $url['port'];
$_SERVER['SERVER_NAME']    = $url['host'];
$_SERVER['SERVER_PORT']    = (string) $url['port'];
$_SERVER['REQUEST_URI']    = '/';
$_SERVER['REQUEST_METHOD'] = 'GET';

// Lets wp-settings.php load an uninstalled site instead of redirecting to install.php.
define( 'WP_INSTALLING', true );
require '/usr/share/wordpress/wp-load.php';

// No mail on a loopback test site (declared before upgrade.php, which only defines it if absent).
function wp_new_blog_notification( $blog_title, $blog_url, $user_id, $password ) {}
require_once ABSPATH . 'wp-admin/includes/upgrade.php';

// STDERR is not defined when PHP reads the script from standard input.
function note( $message ) {
	file_put_contents( 'php://stderr', $message . "\n" );
}
function fail( $message ) {
	note( $message );
	exit( 1 );
}

$email = $admin_user . '@example.com';
if ( ! is_blog_installed() ) {
	$result = wp_install( 'marketing-mcp test site', $admin_user, $email, false, '', wp_generate_password( 32, true, true ) );
	if ( is_wp_error( $result ) || empty( $result['user_id'] ) ) {
		fail( 'wp_install failed: ' . ( is_wp_error( $result ) ? $result->get_error_message() : 'no user created' ) );
	}
	note( 'WordPress installed' );
}
foreach ( array( 'siteurl', 'home' ) as $option ) {
	if ( get_option( $option ) !== $site_url ) {
		update_option( $option, $site_url );
	}
}

global $wp_rewrite;
if ( '/%postname%/' !== get_option( 'permalink_structure' ) ) {
	$wp_rewrite->set_permalink_structure( '/%postname%/' );
	flush_rewrite_rules( false ); // Soft: Apache uses FallbackResource, not .htaccess.
	note( 'permalinks set to /%postname%/' );
}

$user = get_user_by( 'login', $admin_user );
if ( ! $user ) {
	$user_id = wp_insert_user(
		array(
			'user_login' => $admin_user,
			'user_email' => $email,
			'user_pass'  => wp_generate_password( 32, true, true ),
			'role'       => 'administrator',
		)
	);
	if ( is_wp_error( $user_id ) ) {
		fail( 'could not create user ' . $admin_user . ': ' . $user_id->get_error_message() );
	}
	$user = get_user_by( 'id', $user_id );
	note( 'administrator ' . $admin_user . ' created' );
} elseif ( ! in_array( 'administrator', (array) $user->roles, true ) ) {
	$user->set_role( 'administrator' );
}

if ( ! wp_is_application_passwords_available_for_user( $user ) ) {
	fail( 'application passwords are not available (is WP_ENVIRONMENT_TYPE "local" in the config?)' );
}
if ( '1' === $need_password ) {
	$created = WP_Application_Passwords::create_new_application_password( $user->ID, array( 'name' => $app_name ) );
	if ( is_wp_error( $created ) ) {
		fail( 'could not create application password: ' . $created->get_error_message() );
	}
	note( 'application password "' . $app_name . '" created' );
	echo $created[0], "\n";
}
PHP
) || die "WordPress setup (install/admin user/application password) failed; see messages above"
if ((need_password)); then
    app_password=$(printf '%s\n' "$setup_out" | tail -n1)
    [[ "$app_password" =~ ^[A-Za-z0-9]{24}$ ]] || die "unexpected application password output from setup"
fi
log "WordPress installed and configured"

# --- 8. write credentials -----------------------------------------------------------

cred_dir=$(dirname "$CREDENTIALS")
if [[ ! -d "$cred_dir" ]]; then
    mkdir -p "$cred_dir"
    [[ -z "$CREDENTIALS_OWNER" ]] || chown "$CREDENTIALS_OWNER" "$cred_dir"
fi
tmp_cred=$(mktemp "${cred_dir}/.wordpress-credentials.XXXXXX")
trap 'rm -f "$tmp_cred"' EXIT
printf '{"site_url": "%s", "username": "%s", "application_password": "%s"}\n' \
    "$SITE_URL" "$WP_ADMIN_USER" "$app_password" >"$tmp_cred"
chmod 0600 "$tmp_cred"
[[ -z "$CREDENTIALS_OWNER" ]] || chown "$CREDENTIALS_OWNER" "$tmp_cred"
mv -f "$tmp_cred" "$CREDENTIALS"
trap - EXIT
log "credentials written to $CREDENTIALS"

# --- 9. smoke test over REST ----------------------------------------------------------

tmp_body=$(mktemp)
trap 'rm -f "$tmp_body"' EXIT
rest() { # rest METHOD PATH [JSON] -> prints HTTP status, body in $tmp_body
    local args=(-s -o "$tmp_body" -w '%{http_code}' --max-time 20 -X "$1"
        -u "${WP_ADMIN_USER}:${app_password}" -H 'Accept: application/json')
    [[ $# -ge 3 ]] && args+=(-H 'Content-Type: application/json' --data "$3")
    curl "${args[@]}" "${SITE_URL}$2" || true
}
body_field() { php -r '$d = json_decode(file_get_contents($argv[1]), true); echo $d[$argv[2]] ?? "";' "$tmp_body" "$1"; }

code=$(rest POST /wp-json/wp/v2/posts '{"title": "wordpress-up.sh smoke test", "status": "draft"}')
[[ "$code" == 201 ]] || die "POST /wp-json/wp/v2/posts answered HTTP $code (expected 201): $(head -c 400 "$tmp_body")"
post_id=$(body_field id)
[[ "$post_id" =~ ^[0-9]+$ ]] || die "POST /wp-json/wp/v2/posts returned no post id"
code=$(rest DELETE "/wp-json/wp/v2/posts/${post_id}?force=true")
[[ "$code" == 200 ]] || die "DELETE /wp-json/wp/v2/posts/${post_id} answered HTTP $code (expected 200): $(head -c 400 "$tmp_body")"
log "REST: created and deleted draft post ${post_id}"

code=$(rest GET /wp-json/marketing-mcp/v1/seo)
[[ "$code" == 200 ]] || die "GET /wp-json/marketing-mcp/v1/seo answered HTTP $code (expected 200): $(head -c 400 "$tmp_body")"
seo_plugin=$(body_field seo_plugin)
[[ -n "$seo_plugin" ]] || die "GET /wp-json/marketing-mcp/v1/seo: no seo_plugin in $(head -c 400 "$tmp_body")"
log "REST: companion plugin answers (seo_plugin=${seo_plugin})"

log "WordPress is up at ${SITE_URL}/ (credentials: ${CREDENTIALS})"
