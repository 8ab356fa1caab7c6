// Starts GOV.UK Frontend's components (error summary focus, radios, header menu, skip link).
import { initAll } from "./govuk/govuk-frontend.min.js";

initAll();
