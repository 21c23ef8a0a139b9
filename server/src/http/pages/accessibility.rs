//! The accessibility statement (déclaration d'accessibilité) that RGAA asks of every public
//! service online, linked from the footer of every page of the service and of the citizen app.

use axum::extract::Query;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use guichet_shared::phase::Lang;
use serde::Deserialize;

use super::page;
use crate::http::body::lang_of;

#[derive(Deserialize)]
pub struct LangQuery {
    lang: Option<String>,
}

const FR: &str = "\
<p class=\"lang\"><a href=\"/accessibilite?lang=en\" lang=\"en\" hreflang=\"en\">English version</a></p>
<p>La ville s'engage à rendre ses services numériques accessibles, conformément à l'article 47 \
de la loi n° 2005-102 du 11 février 2005. Cette déclaration s'applique au guichet numérique : \
l'application des citoyens (signalements et démarches), ses pages de suivi et l'espace des agents.</p>
<h2>État de conformité</h2>
<p>Le guichet numérique est <strong>partiellement conforme</strong> avec le référentiel général \
d'amélioration de l'accessibilité (RGAA), version 4.1, faute d'un audit complet réalisé par un \
organisme indépendant.</p>
<h2>Tests réalisés</h2>
<ul>
<li>Chaque écran, en français et en anglais, est contrôlé automatiquement avec axe-core \
(règles WCAG 2.0 et 2.1, niveaux A et AA) à chaque version : aucune erreur n'est acceptée.</li>
<li>Les parcours complets (signaler, déposer une démarche, suivre une demande) sont joués au \
clavier seul dans un navigateur réel, sur un écran de téléphone.</li>
<li>Les libellés, les messages d'erreur et les changements d'état sont annoncés aux lecteurs \
d'écran (zones de statut et d'alerte).</li>
</ul>
<h2>Limites connues</h2>
<ul>
<li>La carte est une aide visuelle : le lieu peut toujours être donné par une commune et une \
adresse, sans carte.</li>
<li>Les photos envoyées par les habitants n'ont pas de description textuelle détaillée.</li>
<li>Aucun test n'a encore été mené avec des utilisateurs de technologies d'assistance.</li>
</ul>
<h2>Technologies utilisées</h2>
<p>HTML, CSS, JavaScript (l'application) ; les pages de suivi fonctionnent sans JavaScript.</p>
<h2>Retour d'information et contact</h2>
<p>Si vous ne parvenez pas à accéder à un contenu ou à un service, vous pouvez le signaler par \
la démarche « Contacter la mairie » du guichet, ou à l'accueil de votre mairie, pour être \
orienté vers une alternative accessible ou obtenir le contenu sous une autre forme.</p>
<h2>Voies de recours</h2>
<p>Si vous avez signalé un défaut d'accessibilité qui vous empêche d'accéder à un contenu ou à \
un service et que vous n'avez pas obtenu de réponse satisfaisante, vous pouvez saisir le \
Défenseur des droits :</p>
<ul>
<li>par le formulaire en ligne : <a href=\"https://formulaire.defenseurdesdroits.fr/\">formulaire.defenseurdesdroits.fr</a> ;</li>
<li>en contactant le délégué du Défenseur des droits de votre région : \
<a href=\"https://www.defenseurdesdroits.fr/saisir/delegues\">liste des délégués</a> ;</li>
<li>par courrier, gratuitement, sans affranchissement : Défenseur des droits, Libre réponse \
71120, 75342 Paris CEDEX 07.</li>
</ul>";

const EN: &str = "\
<p class=\"lang\"><a href=\"/accessibilite?lang=fr\" lang=\"fr\" hreflang=\"fr\">Version française</a></p>
<p>The city is committed to making its online services accessible, as article 47 of French law \
no. 2005-102 of 11 February 2005 requires. This statement covers the digital counter: the \
citizens' app (reports and démarches), its status pages and the agents' back office.</p>
<h2>Compliance status</h2>
<p>The digital counter is <strong>partially compliant</strong> with the French accessibility \
framework (RGAA) version 4.1, since no complete audit by an independent body has been made.</p>
<h2>Tests made</h2>
<ul>
<li>Every screen, in French and English, is checked automatically with axe-core (WCAG 2.0 and \
2.1 rules, levels A and AA) at every release: no error is accepted.</li>
<li>The whole journeys (report, file a démarche, follow a request) are played with the keyboard \
alone in a real browser, on a phone screen.</li>
<li>Labels, error messages and changes of state are announced to screen readers (status and \
alert regions).</li>
</ul>
<h2>Known limits</h2>
<ul>
<li>The map is a visual aid: the place can always be given as a town and an address, without \
the map.</li>
<li>Photos sent by residents have no detailed text description.</li>
<li>No test has been made yet with users of assistive technologies.</li>
</ul>
<h2>Technologies</h2>
<p>HTML, CSS, JavaScript (the app); the status pages work without JavaScript.</p>
<h2>Feedback and contact</h2>
<p>If you cannot reach a content or a service, tell us through the \"Contact the town hall\" \
démarche of the counter, or at your town hall's desk, to be offered an accessible alternative \
or the content in another form.</p>
<h2>Recourse</h2>
<p>If you reported an accessibility defect that keeps you from a content or a service and got \
no satisfying answer, you may refer the matter to the Défenseur des droits (the French \
ombudsman):</p>
<ul>
<li>with the online form: <a href=\"https://formulaire.defenseurdesdroits.fr/\" lang=\"fr\">formulaire.defenseurdesdroits.fr</a>;</li>
<li>through the ombudsman's delegate of your region: \
<a href=\"https://www.defenseurdesdroits.fr/saisir/delegues\">list of delegates</a>;</li>
<li>by post, free of charge, without a stamp: <span lang=\"fr\">Défenseur des droits, Libre \
réponse 71120, 75342 Paris CEDEX 07</span>.</li>
</ul>";

/// `GET /accessibilite`: the statement, in French (`?lang=en` or the browser's English).
pub async fn statement(Query(q): Query<LangQuery>, headers: HeaderMap) -> Response {
    let lang = q
        .lang
        .as_deref()
        .map_or_else(|| lang_of(&headers), Lang::parse);
    let (title, body) = match lang {
        Lang::Fr => ("Déclaration d'accessibilité", FR),
        Lang::En => ("Accessibility statement", EN),
    };
    page(StatusCode::OK, lang, title, body)
}
