<?php
/**
 * Plugin Name:       marketing-mcp companion
 * Description:       Exposes SEO title and meta description fields to the WordPress REST API for marketing-mcp (Yoast SEO, Rank Math, or a built-in fallback), and renders the fallback fields on the front end when no SEO plugin is active.
 * Version:           1.0.0
 * Requires at least: 6.1
 * Requires PHP:      7.4
 * Author:            marketing-mcp contributors
 * License:           GPL-2.0-or-later
 * License URI:       https://www.gnu.org/licenses/gpl-2.0.html
 *
 * Install as a must-use plugin (wp-content/mu-plugins/) or as a regular plugin.
 *
 * Contract (kept in sync with the Python emulation used by the test suite):
 *
 * - Post meta registered for REST on `post` and `page` (single string values,
 *   sanitized with sanitize_text_field, writable by users who can edit the post):
 *   _yoast_wpseo_title, _yoast_wpseo_metadesc, rank_math_title,
 *   rank_math_description, _marketing_mcp_seo_title,
 *   _marketing_mcp_meta_description.
 * - GET /wp-json/marketing-mcp/v1/seo (requires the edit_posts capability) returns
 *   {"plugin_version": "1.0.0", "seo_plugin": "yoast"|"rank_math"|"none",
 *    "fields": {"seo_title": "<meta key>", "meta_description": "<meta key>"}}.
 * - With neither Yoast SEO nor Rank Math active, the _marketing_mcp_* fields set
 *   the document <title> and <meta name="description"> of singular posts/pages.
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

// Loaded twice (e.g. both as a must-use and as a regular plugin): keep the first.
if ( defined( 'MARKETING_MCP_COMPANION_VERSION' ) ) {
	return;
}

define( 'MARKETING_MCP_COMPANION_VERSION', '1.0.0' );

/**
 * Post types whose SEO meta is exposed over REST.
 *
 * @return string[]
 */
function marketing_mcp_companion_post_types() {
	return array( 'post', 'page' );
}

/**
 * Meta keys registered for REST, keyed by SEO plugin.
 *
 * @return array<string, array{seo_title: string, meta_description: string}>
 */
function marketing_mcp_companion_field_map() {
	return array(
		'yoast'     => array(
			'seo_title'        => '_yoast_wpseo_title',
			'meta_description' => '_yoast_wpseo_metadesc',
		),
		'rank_math' => array(
			'seo_title'        => 'rank_math_title',
			'meta_description' => 'rank_math_description',
		),
		'none'      => array(
			'seo_title'        => '_marketing_mcp_seo_title',
			'meta_description' => '_marketing_mcp_meta_description',
		),
	);
}

/**
 * Which SEO plugin owns the title/description fields on this site.
 *
 * Must be called after plugins_loaded: must-use plugins load before regular
 * plugins, so the SEO plugins' constants and classes do not exist yet when this
 * file is included.
 *
 * @return string "yoast", "rank_math" or "none".
 */
function marketing_mcp_companion_seo_plugin() {
	if ( defined( 'WPSEO_VERSION' ) ) {
		return 'yoast';
	}
	if ( class_exists( 'RankMath' ) ) {
		return 'rank_math';
	}
	return 'none';
}

/**
 * Meta auth callback: protected (underscore-prefixed) keys need it to be
 * readable and writable over REST.
 *
 * @param bool   $allowed   Whether the user can add the meta (ignored).
 * @param string $meta_key  Meta key.
 * @param int    $object_id Post ID.
 * @param int    $user_id   User ID.
 * @return bool
 */
function marketing_mcp_companion_can_edit_meta( $allowed, $meta_key, $object_id, $user_id = 0 ) {
	if ( ! $user_id ) {
		$user_id = get_current_user_id();
	}
	return (bool) user_can( $user_id, 'edit_post', (int) $object_id );
}

/**
 * Registers the SEO meta keys for REST on posts and pages.
 */
function marketing_mcp_companion_register_meta() {
	$keys = array();
	foreach ( marketing_mcp_companion_field_map() as $fields ) {
		foreach ( $fields as $meta_key ) {
			$keys[] = $meta_key;
		}
	}

	foreach ( marketing_mcp_companion_post_types() as $post_type ) {
		foreach ( $keys as $meta_key ) {
			register_post_meta(
				$post_type,
				$meta_key,
				array(
					'type'              => 'string',
					'single'            => true,
					'show_in_rest'      => true,
					'sanitize_callback' => 'marketing_mcp_companion_sanitize',
					'auth_callback'     => 'marketing_mcp_companion_can_edit_meta',
				)
			);
		}
	}
}
add_action( 'init', 'marketing_mcp_companion_register_meta' );

/**
 * Meta sanitize callback.
 *
 * @param mixed $value Raw meta value.
 * @return string
 */
function marketing_mcp_companion_sanitize( $value ) {
	return sanitize_text_field( (string) $value );
}

/**
 * Registers GET /wp-json/marketing-mcp/v1/seo.
 */
function marketing_mcp_companion_register_routes() {
	register_rest_route(
		'marketing-mcp/v1',
		'/seo',
		array(
			'methods'             => WP_REST_Server::READABLE,
			'callback'            => 'marketing_mcp_companion_seo_info',
			'permission_callback' => static function () {
				return current_user_can( 'edit_posts' );
			},
		)
	);
}
add_action( 'rest_api_init', 'marketing_mcp_companion_register_routes' );

/**
 * Describes which meta keys hold the SEO title and meta description.
 *
 * @return WP_REST_Response
 */
function marketing_mcp_companion_seo_info() {
	$seo_plugin = marketing_mcp_companion_seo_plugin();
	$map        = marketing_mcp_companion_field_map();

	return rest_ensure_response(
		array(
			'plugin_version' => MARKETING_MCP_COMPANION_VERSION,
			'seo_plugin'     => $seo_plugin,
			'fields'         => $map[ $seo_plugin ],
		)
	);
}

/**
 * ID of the singular post/page being rendered when the fallback fields apply,
 * or 0 when an SEO plugin is active or this is not a singular post/page view.
 *
 * @return int
 */
function marketing_mcp_companion_fallback_post_id() {
	if ( is_admin() || 'none' !== marketing_mcp_companion_seo_plugin() ) {
		return 0;
	}
	if ( ! is_singular( marketing_mcp_companion_post_types() ) ) {
		return 0;
	}
	return (int) get_queried_object_id();
}

/**
 * Uses _marketing_mcp_seo_title as the full document title when set.
 *
 * @param string $title Title short-circuited by earlier filters, or ''.
 * @return string
 */
function marketing_mcp_companion_document_title( $title ) {
	if ( '' !== (string) $title ) {
		return $title;
	}
	$post_id = marketing_mcp_companion_fallback_post_id();
	if ( ! $post_id ) {
		return $title;
	}
	$seo_title = trim( (string) get_post_meta( $post_id, '_marketing_mcp_seo_title', true ) );
	if ( '' === $seo_title ) {
		return $title;
	}
	// wp_get_document_title() returns a short-circuited title without escaping it.
	return esc_html( $seo_title );
}
add_filter( 'pre_get_document_title', 'marketing_mcp_companion_document_title', 20 );

/**
 * Prints <meta name="description"> from _marketing_mcp_meta_description.
 */
function marketing_mcp_companion_meta_description() {
	$post_id = marketing_mcp_companion_fallback_post_id();
	if ( ! $post_id ) {
		return;
	}
	$description = trim( (string) get_post_meta( $post_id, '_marketing_mcp_meta_description', true ) );
	if ( '' === $description ) {
		return;
	}
	printf( '<meta name="description" content="%s" />' . "\n", esc_attr( $description ) );
}
add_action( 'wp_head', 'marketing_mcp_companion_meta_description', 1 );
