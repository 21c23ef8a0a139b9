# What a store build needs from the release machine's environment, checked before anything is
# built: the server's address (a store build never falls back to a local address: the app
# would reach nothing) and the signing secrets. Plain Ruby, no fastlane, so that
# tests/native/config/phone.test.mjs can run it.
require "uri"

module GuichetRelease
  class Missing < StandardError; end

  ANDROID_SIGNING = %w[
    GUICHET_ANDROID_KEYSTORE
    GUICHET_ANDROID_KEYSTORE_PASSWORD
    GUICHET_ANDROID_KEY_ALIAS
    GUICHET_ANDROID_KEY_PASSWORD
  ].freeze

  IOS_SIGNING = %w[
    GUICHET_APPLE_TEAM_ID
    GUICHET_ASC_KEY_ID
    GUICHET_ASC_ISSUER_ID
    GUICHET_ASC_KEY_P8
  ].freeze

  # The https address of the server the build talks to (GUICHET_SERVER_URL), without a
  # trailing slash.
  def self.server_url!(env = ENV)
    url = env["GUICHET_SERVER_URL"].to_s.strip.chomp("/")
    raise Missing, "GUICHET_SERVER_URL is not set: a store build needs the address of its server " \
                   "(e.g. https://guichet.example.org)" if url.empty?
    uri = begin
      URI.parse(url)
    rescue URI::InvalidURIError
      nil
    end
    raise Missing, "GUICHET_SERVER_URL=#{url} is not an https:// address" unless uri.is_a?(URI::HTTPS) && uri.host
    if uri.host == "localhost" || uri.host.start_with?("127.") || uri.host == "[::1]"
      raise Missing, "GUICHET_SERVER_URL=#{url} is a local address: a store build needs the public server"
    end
    url
  end

  def self.server_host!(env = ENV)
    URI.parse(server_url!(env)).host
  end

  # The values of `names`, all required.
  def self.require_all!(names, env = ENV)
    missing = names.select { |n| env[n].to_s.strip.empty? }
    raise Missing, "not set: #{missing.join(', ')}" unless missing.empty?
    names.to_h { |n| [n, env[n]] }
  end

  # Tauri's Android project reads its signing key from gen/android/keystore.properties.
  def self.android_keystore_properties!(env = ENV)
    s = require_all!(ANDROID_SIGNING, env)
    <<~PROPS
      storeFile=#{s['GUICHET_ANDROID_KEYSTORE']}
      password=#{s['GUICHET_ANDROID_KEYSTORE_PASSWORD']}
      keyAlias=#{s['GUICHET_ANDROID_KEY_ALIAS']}
      keyPassword=#{s['GUICHET_ANDROID_KEY_PASSWORD']}
    PROPS
  end
end
